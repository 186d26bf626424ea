from runtime.grpc_server import serve_main
from services.connections.server import setup

serve_main("connections", setup)
