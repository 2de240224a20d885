"""forge-tui: build fine-tuning datasets with local models, from the terminal."""

__version__ = "0.1.0"
