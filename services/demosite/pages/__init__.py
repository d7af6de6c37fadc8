"""The two saved Sputnik captures the seed article is served from (a package so the HTML ships in wheels)."""
