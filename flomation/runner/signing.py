"""Request signing moved to flomation.lib.signing (shared by the API and the runner); this name stays for
existing imports and is the same module."""

import sys

from flomation.lib import signing

sys.modules[__name__] = signing
