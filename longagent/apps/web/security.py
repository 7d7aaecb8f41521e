"""What keeps the web app safe by default: only requests that name this server in their
Host header (DNS rebinding), the optional bearer token (header, login cookie, or a
one-time `?token=` link), same-origin checks on writes, security headers, strict ids,
and paths that never leave the data directory."""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "longagent_token"
DOC_ID = re.compile(r"^[0-9a-f]{16}$")  # Document.id: a sha256 prefix of the text
JOB_ID = re.compile(r"^[0-9a-f]{32}$")  # uuid4().hex
OPEN_PATHS = ("/login", "/health", "/static/")
ANY_HOST = "*"

# Scripts only from our own origin: even markup that slipped past escaping could not run.
# htmx injects its indicator <style>, hence 'unsafe-inline' for styles only.
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" makes Chrome send Origin: null
    (b"x-frame-options", b"DENY"),
]


def check_id(value: str, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.fullmatch(value))


def inside(root: Path, *parts: str) -> Path:
    """`root/parts...`, refused (ValueError) unless it resolves inside `root`."""
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base):
        raise ValueError(f"{'/'.join(parts)!r} is outside the data directory")
    return path


def safe_next(target: str | None) -> str:
    """A local path to go back to after login; anything else (another site) becomes /."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def host_name(host_header: str) -> str | None:
    """The name in a Host header, lowercased, without port or brackets; None if malformed."""
    try:
        parts = urlsplit("//" + host_header)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    name = (parts.hostname or "").rstrip(".")
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return name


def loopback_name(name: str) -> bool:
    """localhost, or a loopback address: names that a DNS answer cannot point elsewhere."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def login_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")


class Guard:
    """ASGI middleware in front of every route (pure ASGI, so SSE streams pass untouched)."""

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.token = token
        names = {host_name(h) or h for h in allowed_hosts}
        self.any_host = ANY_HOST in names
        self.allowed_hosts = names - {ANY_HOST}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS]
            await send(message)

        refusal = self.refuse(Request(scope))
        if refusal is None:
            await self.app(scope, receive, send_with_headers)
        else:
            await refusal(scope, receive, send_with_headers)

    def refuse(self, request: Request) -> Response | None:
        """A response that stops the request, or None to let it through."""
        if not self.host_allowed(request.headers.get("host", "")):
            # DNS rebinding: a page on evil.example, its name now resolving to 127.0.0.1,
            # is "same-origin" with us, but its requests still say Host: evil.example.
            return PlainTextResponse(
                "Invalid Host header: this server answers to localhost, 127.0.0.1 and [::1]. "
                "To reach it by another name, start it with --allowed-host NAME.",
                status_code=400,
            )
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
            # A page on another site may not post here (CSRF), token or not.
            return PlainTextResponse("Cross-site request refused.", status_code=403)
        if self.token is None or request.url.path.startswith(OPEN_PATHS):
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token_matches(self.token, given.strip()):
            return None
        if token_matches(self.token, request.cookies.get(COOKIE)):
            return None
        if request.method == "GET" and token_matches(self.token, request.query_params.get("token")):
            # A `?token=` link logs the browser in, then drops the token from the address.
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            clean = URL(path=request.url.path, query=urlencode(query))
            response = RedirectResponse(str(clean), status_code=303)
            login_cookie(response, self.token)
            return response
        wants_page = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_page and "hx-request" not in request.headers:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        return PlainTextResponse(
            "Authentication required: send 'Authorization: Bearer <token>' or log in at /login.",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    def host_allowed(self, host_header: str) -> bool:
        if self.any_host:
            return True
        name = host_name(host_header)
        return name is not None and (loopback_name(name) or name in self.allowed_hosts)


def _same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another origin."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by browsers on same-origin GETs, nor by API clients
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")
