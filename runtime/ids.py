"""Resource ids: a readable kind prefix and a random UUID."""

import uuid


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4()}"
