from flomation.cli.main import entry

entry()
