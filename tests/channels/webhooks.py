from __future__ import annotations

import urllib.error
import urllib.request


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POSTs as the platform would; (status, body), refusals included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
