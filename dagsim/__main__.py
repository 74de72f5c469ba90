"""`python -m dagsim` runs the command-line interface."""

from dagsim.cli import main

if __name__ == "__main__":
    main()
