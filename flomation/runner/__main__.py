import sys

from flomation.runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
