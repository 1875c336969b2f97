"""Test-only JupyterLab server: Debian's jupyter_server 1.x and jupyterlab_server 2.x serving the frontend built
by build.js (build/), with the federated extensions found in --labextensions-dir (cellar's prebuilt
labextension). Run with Debian's Python:

    /usr/bin/python3 server.py --CellarE2ELabApp.labextensions_dir=DIR --ServerApp.token=T --ServerApp.port=P \
        --ServerApp.root_dir=NOTEBOOKS --ServerApp.allow_root=True

Set JUPYTER_CONFIG_DIR, JUPYTER_DATA_DIR and JUPYTER_RUNTIME_DIR to fresh directories (tests do). The page config
exposes the application as `window.jupyterapp`. jupyter_server 1.x lacks endpoints JupyterLab 4 calls
(`/api/me`, `/api/events/subscribe`) and there is no jupyter-lsp (`/lsp/status`): small stubs answer them,
behind the same token authentication.
"""

import json
import os
import sys

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.zmqhandlers import WebSocketMixin
from jupyterlab_server import LabServerApp
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Unicode

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
USERNAME = "cellar-e2e"


class MeHandler(APIHandler):
    """GET /api/me: the identity JupyterLab 4 shows (jupyter_server 2 has this endpoint)."""

    @web.authenticated
    def get(self):
        identity = {
            "username": USERNAME,
            "name": "cellar e2e",
            "display_name": "cellar e2e",
            "initials": "CE",
            "avatar_url": None,
            "color": None,
        }
        self.finish(json.dumps({"identity": identity, "permissions": {}}))


class LspStatusHandler(APIHandler):
    """GET /lsp/status: what the jupyter-lsp server extension answers when no language server is installed."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps({"version": 2, "sessions": {}, "specs": {}}))


class EventsSubscribeHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """WebSocket /api/events/subscribe: accepted after authentication; no events are ever sent."""

    def set_default_headers(self):
        pass  # JupyterHandler's headers make no sense on a websocket upgrade.

    async def get(self, *args, **kwargs):
        if self.get_current_user() is None:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def on_message(self, message):
        pass


class CellarE2ELabApp(LabServerApp):
    """JupyterLab frontend for cellar's browser tests."""

    name = "cellar_e2e_lab"
    app_name = "JupyterLab"
    app_version = Unicode("4.6.4")
    load_other_extensions = False
    labextensions_dir = Unicode("", config=True, help="Directory holding prebuilt labextensions.")

    def initialize_templates(self):
        # Runs first (before settings and handlers): every directory is set here.
        if not os.path.exists(os.path.join(BUILD, "templates", "index.html")):
            sys.exit(f"{BUILD} is not built: run scripts/build-e2e-app.sh")
        self.static_dir = os.path.join(BUILD, "static")
        self.templates_dir = os.path.join(BUILD, "templates")
        self.schemas_dir = os.path.join(BUILD, "schemas")
        self.themes_dir = os.path.join(BUILD, "themes")
        self.user_settings_dir = os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "lab", "user-settings")
        self.workspaces_dir = os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "lab", "workspaces")
        self.app_settings_dir = os.path.join(BUILD, "settings")
        self.labextensions_path = [self.labextensions_dir] if self.labextensions_dir else []
        self.cache_files = False
        super().initialize_templates()

    def initialize_handlers(self):
        page_config = self.serverapp.web_app.settings.setdefault("page_config_data", {})
        page_config["token"] = self.serverapp.token
        page_config["exposeAppInBrowser"] = True
        page_config["buildAvailable"] = False
        page_config["devMode"] = False
        super().initialize_handlers()
        self.handlers.append(("/api/me", MeHandler))
        self.handlers.append(("/api/events/subscribe", EventsSubscribeHandler))
        self.handlers.append(("/lsp/status", LspStatusHandler))


def _jupyter_server_extension_points():
    # jupyter_server finds the app of a script run as __main__ through this hook.
    return [{"module": "__main__", "app": CellarE2ELabApp}]


if __name__ == "__main__":
    CellarE2ELabApp.launch_instance()
