"""One module per `electeur` subcommand; each defines `register(subparsers)`."""
