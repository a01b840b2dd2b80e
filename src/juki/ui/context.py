from .access import idle_seconds


def ui(request):
    """What every staff page's script needs: the idle-lock delay (C20)."""
    return {"idle_seconds": idle_seconds()}
