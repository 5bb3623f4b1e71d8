"""`flomation`: the platform's command line for people and CI. It talks to the API over HTTP only (a `flo_`
personal API token), imports nothing from Django, and answers in lines for people or JSON (`--json`)."""
