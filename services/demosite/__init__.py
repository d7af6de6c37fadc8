"""A small local news site (seed Sputnik page, related articles, feeds, robots, error pages) for tests and demos."""

from services.demosite.server import DemoSite

__all__ = ["DemoSite"]
