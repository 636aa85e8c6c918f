"""sipo-digest: a German daily security-policy briefing built from news feeds."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
