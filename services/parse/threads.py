"""Comment platform threads, read: which module maps which platform's answers, and the platforms
newsflow can only record (no public read path).

Facebook's comments plugin is one of those: its comments are read through the Graph API
(`/{object-id}/comments`), which needs an access token with the same permissions as the object the
comments hang on (developers.facebook.com/docs/graph-api/reference/object/comments), and the plugin
itself renders inside an iframe served by facebook.com; there is no anonymous read API to call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.parse.providers import Page, ThreadComments, coral, disqus, openweb, viafoura

READERS: dict[str, Callable[[Sequence[Page]], ThreadComments]] = {
    "disqus": disqus.read_thread,
    "viafoura": viafoura.read_thread,
    "openweb": openweb.read_thread,
    "coral": coral.read_thread,
}
# Widget providers (services/parse/widgets.find_widgets) detected but not readable, and why.
UNSUPPORTED = {
    "facebook": "Facebook's comments plugin has no public read API: the Graph API's comments edge needs an"
    " access token with permission on the commented object, and the plugin renders in a facebook.com iframe",
}


def read_thread(provider: str, pages: Sequence[Page]) -> ThreadComments:
    """A platform thread's comments from the answers of one round; ProviderError when they are not
    what the platform's module reads."""
    return READERS[provider](pages)
