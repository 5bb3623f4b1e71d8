"""The project settings with identity's User as AUTH_USER_MODEL, for running these tests before the
project settings name it (`pytest --ds=tests.identity.swapped_settings`); harmless once they do."""

from flomation.settings import *  # noqa: F403

AUTH_USER_MODEL = "identity.User"
