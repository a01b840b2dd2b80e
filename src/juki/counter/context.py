from .access import idle_seconds


def counter(request):
    """What every counter page's script needs: the idle-lock delay (C20)."""
    return {"idle_seconds": idle_seconds()}
