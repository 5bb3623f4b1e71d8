#!/usr/bin/env python
"""Flomation's command line: `python manage.py serve --role api,launch`, `runserver --role all`, ..."""

import os
import sys


def _take_role_flag(argv: list[str]) -> list[str]:
    """Moves `--role X` / `--role=X` into FLOMATION_ROLES before settings load (roles shape the URL set)."""
    kept: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--role":
            value = next(args, None)
            if value is None:
                sys.exit("--role needs a value, for example --role api,launch")
            os.environ["FLOMATION_ROLES"] = value
        elif arg.startswith("--role="):
            os.environ["FLOMATION_ROLES"] = arg.split("=", 1)[1]
        else:
            kept.append(arg)
    return kept


def main() -> None:
    argv = _take_role_flag(sys.argv)
    if argv[1:2] == ["generate_key"]:
        # Before settings load: a new box has no SECRET_KEY yet, and this command is how it gets one.
        from flomation.lib.keys import generate_key_main

        sys.exit(generate_key_main(argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flomation.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
