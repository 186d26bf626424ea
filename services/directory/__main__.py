from runtime.grpc_server import serve_main
from services.directory.server import setup

serve_main("directory", setup)
