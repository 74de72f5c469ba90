"""dagsim: a simulator of Exchange Server 2013 database availability groups."""

__version__ = "0.1.0"
