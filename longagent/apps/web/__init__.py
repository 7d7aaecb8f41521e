"""The web app: long-document QA and chat with memory in the browser (`longagent serve`)."""

from longagent.apps.web.app import WebError, create_app

__all__ = ["WebError", "create_app"]
