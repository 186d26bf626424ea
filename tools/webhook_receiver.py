"""A local webhook endpoint for trying scimd: prints every webhook it receives
and, given the endpoint's secret, checks its Standard Webhooks signature.

    .venv/bin/python tools/webhook_receiver.py --port 9000 [--secret whsec_...]
"""

import argparse
import json

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default="", help="the endpoint's whsec_ secret, to verify signatures")
    args = parser.parse_args()

    async def receive(request: web.Request) -> web.Response:
        body = await request.text()
        verdict = "not checked (no --secret)"
        if args.secret:
            try:
                Webhook(args.secret).verify(body, dict(request.headers))
                verdict = "valid"
            except WebhookVerificationError as error:
                verdict = f"INVALID ({error})"
        print(f"--- {request.method} {request.path}  webhook-id: {request.headers.get('webhook-id')}  signature: {verdict}")
        print(json.dumps(json.loads(body), indent=2), flush=True)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receive)
    print(f"listening on http://127.0.0.1:{args.port}/hook", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
