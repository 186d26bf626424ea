from runtime.grpc_server import serve_main
from services.rbac.server import setup

serve_main("rbac", setup)
