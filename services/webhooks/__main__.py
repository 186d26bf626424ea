from runtime.grpc_server import serve_main
from services.webhooks.server import setup

serve_main("webhooks", setup)
