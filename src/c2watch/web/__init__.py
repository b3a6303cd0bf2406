"""The web dashboard: an app factory, and routers for mounting the same pages in another app (the hub)."""

from c2watch.web.app import CSP, AuthDependency, create_app, dashboard_router, security_headers
from c2watch.web.assets import assets_router, plotly_js

__all__ = ["CSP", "AuthDependency", "assets_router", "create_app", "dashboard_router", "plotly_js", "security_headers"]
