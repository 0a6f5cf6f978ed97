"""Paginators of a REST source: one small class per way of asking for the next page (page
number, offset/limit, cursor, next URL, Link header), each its spec's `pagination:` model too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urljoin

import requests
from pydantic import BaseModel, ConfigDict, Field

from connectors.sources._rest_json import MISSING, dig, param_text


@dataclass(frozen=True)
class PageRequest:
    """One page to ask for: `url` plus `params` (added to the URL's own query string)."""

    url: str
    params: dict[str, str]
    position: int | str | None = None  # page number, offset or cursor that produced it

    def full_url(self) -> str:
        prepared = requests.PreparedRequest()
        prepared.prepare_url(self.url, self.params)
        return str(prepared.url)


@dataclass(frozen=True)
class ServedPage:
    """What a page request got: the parsed body, its record count, `Link` headers, the URL served
    (relative next links resolve against it)."""

    body: Any
    count: int
    url: str
    links: dict[str, dict[str, str]] = field(default_factory=dict)


class ConfigModel(BaseModel):
    """A strict, immutable part of a REST source's config."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Paginator(ConfigModel):
    """A way of asking for pages: the first request, and the one after each page served."""

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        return PageRequest(url, dict(params))

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        """The page after `current`, or None when it was the last; ValueError when inconsistent."""
        return None


class NoPagination(Paginator):
    """One request, one page."""

    type: Literal["none"] = "none"


class PageNumberPagination(Paginator):
    """`?page=1&page_size=100`, then page 2, 3... until an empty (or short) page."""

    type: Literal["page_number"]
    param: str = Field("page", description="Query parameter of the page number.")
    start: int = Field(1, ge=0, description="First page number.")
    size_param: str | None = Field(
        None, description="Query parameter of the page size, e.g. page_size; none: the server's default."
    )
    size: int | None = Field(
        None, ge=1, description="Page size, sent as size_param; also the short-page threshold."
    )
    stop_on_short_page: bool = Field(
        True, description="A page with fewer than `size` records is the last one."
    )

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        extra = {self.param: str(self.start)}
        if self.size_param and self.size is not None:
            extra[self.size_param] = str(self.size)
        return PageRequest(url, {**params, **extra}, self.start)

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        if page.count == 0 or (self.stop_on_short_page and self.size and page.count < self.size):
            return None
        assert isinstance(current.position, int)
        number = current.position + 1
        return PageRequest(current.url, {**current.params, self.param: str(number)}, number)


class OffsetPagination(Paginator):
    """`?offset=0&limit=100`; the offset advances by the number of records actually received."""

    type: Literal["offset"]
    offset_param: str = Field("offset", description="Query parameter of the offset.")
    limit_param: str = Field("limit", description="Query parameter of the page size.")
    limit: int = Field(100, ge=1, description="Records asked per page.")
    start: int = Field(0, ge=0, description="First offset.")
    stop_on_short_page: bool = Field(
        True, description="A page with fewer than `limit` records is the last one."
    )

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        extra = {self.offset_param: str(self.start), self.limit_param: str(self.limit)}
        return PageRequest(url, {**params, **extra}, self.start)

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        if page.count == 0 or (self.stop_on_short_page and page.count < self.limit):
            return None
        assert isinstance(current.position, int)
        offset = current.position + page.count
        return PageRequest(current.url, {**current.params, self.offset_param: str(offset)}, offset)


class CursorPagination(Paginator):
    """The response carries the next cursor (`cursor_path`), sent back as `param`."""

    type: Literal["cursor"]
    cursor_path: str = Field(
        min_length=1, description="Dotted path of the next cursor in the response, e.g. meta.next_cursor."
    )
    param: str = Field("cursor", description="Query parameter the cursor is sent as.")

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        cursor = dig(page.body, self.cursor_path)
        if page.count == 0 or cursor is MISSING or cursor is None or cursor == "" or cursor is False:
            return None
        cursor = param_text(cursor)
        if cursor == current.position:
            raise ValueError(f"the server returned the same cursor twice ({self.cursor_path})")
        return PageRequest(current.url, {**current.params, self.param: cursor}, cursor)


class NextUrlPagination(Paginator):
    """The response carries the next page's URL (`next_path`, e.g. "links.next" or "next")."""

    type: Literal["next_url"]
    next_path: str = Field(
        min_length=1, description="Dotted path of the next page's URL in the response, e.g. links.next."
    )

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        nxt = dig(page.body, self.next_path)
        if page.count == 0 or nxt is MISSING or not nxt:
            return None
        if not isinstance(nxt, str):
            raise ValueError(f"{self.next_path} is a {type(nxt).__name__}, not a URL")
        return PageRequest(urljoin(page.url, nxt), {})


class LinkHeaderPagination(Paginator):
    """RFC 8288 `Link: <https://...?page=2>; rel="next"` headers (GitHub style)."""

    type: Literal["link_header"]
    rel: str = Field("next", description="Link relation of the next page.")

    def next(self, current: PageRequest, page: ServedPage) -> PageRequest | None:
        link = page.links.get(self.rel)
        if not link or not link.get("url"):
            return None
        return PageRequest(urljoin(page.url, link["url"]), {})


Pagination = Annotated[
    NoPagination
    | PageNumberPagination
    | OffsetPagination
    | CursorPagination
    | NextUrlPagination
    | LinkHeaderPagination,
    Field(discriminator="type"),
]
