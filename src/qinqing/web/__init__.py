"""The web platform: one FastAPI application (JSON API and Chinese pages) and the demo accounts."""

from qinqing.web.demo import DemoLogin, demo_seed

__all__ = ["DemoLogin", "demo_seed"]
