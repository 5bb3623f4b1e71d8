"""Identity's write operations (HackSoft style: keyword-only functions named <entity>_<action>).

`encryption_rotate` is here at the package's top because core's `rotate_encryption_keys` command looks for
it by that name (core does not read identity's tables itself).
"""

from flomation.identity.services.encryption import encryption_rotate

__all__ = ["encryption_rotate"]
