"""Settings from environment variables prefixed NEWSFLOW_ (see the README's table)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_BROKER = "memory://"


class Settings(BaseSettings):
    """All runtime configuration. Every field maps to NEWSFLOW_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    database_url: str = Field("sqlite:///newsflow.db", description="SQLAlchemy URL of the store.")
    broker_url: str = Field(
        EMBEDDED_BROKER, description="Celery broker; memory:// runs every stage in-process (embedded mode)."
    )
    redis_url: str = Field(
        "", description="Redis for shared state (politeness, robots cache); defaults to the broker when Redis."
    )

    fetch_allow_hosts: str = Field(
        "", description="Comma-separated hosts or CIDRs that may be fetched although private (e.g. 127.0.0.1)."
    )
    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow/newsflow)"
    fetch_connect_timeout: float = 10.0
    fetch_read_timeout: float = 20.0
    fetch_total_timeout: float = 60.0
    fetch_max_bytes: int = Field(10 * 1024 * 1024, description="Cap on a body, compressed and decompressed.")
    fetch_max_redirects: int = 5
    fetch_respect_robots: bool = True
    robots_cache_seconds: int = 3600
    fetch_bodies_keep: int = Field(
        0, ge=0, description="Fetched bodies kept per URL, newest first (and the one parsed last); 0 keeps all."
    )
    politeness_delay: float = Field(1.0, description="Seconds between two requests to one host, all workers.")

    task_max_attempts: int = Field(5, description="Attempts before a transient failure becomes permanent.")
    task_soft_time_limit: int = Field(120, description="Seconds before a task is interrupted (stage_timeout, retried).")
    task_time_limit: int = Field(180, description="Seconds before a task's process is killed (worker_lost).")
    retry_backoff_base: float = 2.0
    retry_backoff_max: float = 300.0
    sweep_stale_seconds: int = Field(300, description="Re-publish a stage's item when untouched this long.")
    sweep_interval_seconds: int = 60
    inline_followups: bool = Field(
        True, description="Run a follow-up stage served by the same worker (enrich -> links) in-process."
    )
    feed_poll_interval_seconds: int = Field(900, description="First interval between polls of a new feed.")
    feed_min_interval_seconds: int = Field(300, description="Adaptive feed polling never goes below this.")
    feed_max_interval_seconds: int = Field(21600, description="... nor above this (6 hours).")
    repoll_schedule: str = Field(
        "6h=15m,48h=1h,7d=1d",
        description="Article re-poll tiers: while an article is younger than AGE (since first seen), poll every EVERY.",
    )
    repoll_stop_unchanged: int = Field(12, description="Stop re-polling after this many unchanged polls in a row.")
    metrics_port: int = Field(0, description="Port for a worker's Prometheus endpoint; 0 turns it off.")
    metrics_site_groups: str = Field(
        "",
        description="Site groups for metric labels: `group=domain|domain,...` (a domain covers its subdomains); "
        "every other host is counted as `other`.",
    )
    metrics_dir: str = Field(
        "",
        description="Base folder of a prefork worker's multiprocess metric files (one cleaned subfolder per start); "
        "default: PROMETHEUS_MULTIPROC_DIR, else the temp folder.",
    )
    api_token: str = Field(
        "", description="Bearer token for the HTTP API's write endpoints; empty closes them (401 writes_disabled)."
    )
    api_public_reads: bool = Field(False, description="Let the HTTP API's read endpoints answer without the token.")
    api_read_only: bool = Field(
        False, description="Close the HTTP API's write endpoints; with public reads it may then run without a token."
    )
    api_max_batch: int = Field(1000, ge=1, description="Most URLs one POST /urls or POST /feeds may carry.")
    enrich_aliases_path: str = Field(
        "", description="JSON alias table that extends the shipped one (same format as services/enrich/data)."
    )
    enrich_keywords: int = Field(5, ge=0, description="Key phrases stored per article as topic tags; 0 turns off.")
    duplicate_similarity: float = Field(
        0.6, gt=0, le=1, description="Estimated Jaccard similarity from which two articles are near-duplicates."
    )
    link_follow_max_depth: int = Field(
        1, ge=0, description="Queue related links not yet stored up to this many hops from a seed URL; 0 turns off."
    )
    link_follow_allow_hosts: str = Field(
        "", description="Comma-separated hosts whose related links are followed; empty: the linking site's own; *: any."
    )
    link_follow_budget: int = Field(20, ge=0, description="Most new URLs one article's related links may queue.")
    log_level: str = "INFO"
    warc_max_bytes: int = Field(
        4 * 1024**3, ge=1, description="Cap on a web archive fetched by URL for import-warc (CC-NEWS files are ~1 GB)."
    )
    warc_fetch_timeout: float = Field(3600.0, gt=0, description="Seconds a web archive download may take in all.")

    # Comment platforms (services/ingest/providers): where each one's public read API answers, and keys.
    disqus_api_key: str = Field(
        "", description="Public API key for Disqus' threads/listPosts (the kind its embed sends); empty: provider_auth."
    )
    disqus_api_url: str = Field("https://disqus.com/api/3.0", description="Base URL of the Disqus API.")
    viafoura_sections_url: str = Field(
        "https://tyrion.viafoura.co", description="Viafoura's site lookup (a page's host to its site uuid)."
    )
    viafoura_livecomments_url: str = Field(
        "https://livecomments.viafoura.co", description="Viafoura's live comments API (threads and replies)."
    )
    viafoura_users_url: str = Field("https://iam.viafoura.co", description="Viafoura's user API (display names).")
    openweb_api_url: str = Field(
        "https://api-2-0.spot.im/v1.0.0", description="OpenWeb (Spot.IM) conversation API (guest token, read)."
    )
    coral_persisted_query_id: str = Field(
        "72fb962160f4024e41596efd0aa7a172",
        description="Id of the stream query Coral's embed sends as a persisted query (Coral 9.9.x); empty: skip.",
    )
    coral_token: str = Field("", description="Coral API token for raw GraphQL queries when persisted queries fail.")
    coral_root_url: str = Field("", description="Coral root URL to use instead of the one the page names.")
    provider_politeness_delay: float = Field(
        1.0, ge=0, description="Seconds between two requests to one comment platform, across all workers."
    )
    provider_max_requests: int = Field(
        100, ge=1, description="Most requests one comment thread may take per poll (pages, replies, names)."
    )

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _check_allow_hosts(cls, value: str) -> str:
        for item in _split(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                if not item.replace("-", "").replace(".", "").isalnum():
                    raise ValueError(f"not a host or CIDR: {item!r}") from None
        return value

    @property
    def embedded(self) -> bool:
        """True when no external broker is configured: stages run in this process."""
        return self.broker_url.startswith(EMBEDDED_BROKER)

    @property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Allow-listed private networks (IPs and CIDRs from fetch_allow_hosts)."""
        nets = []
        for item in _split(self.fetch_allow_hosts):
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue
        return tuple(nets)

    @property
    def allowed_hostnames(self) -> frozenset[str]:
        """Allow-listed host names (non-IP entries of fetch_allow_hosts), lower-cased."""
        names = set()
        for item in _split(self.fetch_allow_hosts):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                names.add(item.lower())
        return frozenset(names)

    @property
    def shared_redis_url(self) -> str | None:
        """Redis URL for state shared by workers, or None in the embedded mode."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
