"""Shipped data of the enrich service: the default alias table and the entity rules lists."""
