from django.conf import settings


def counter(request):
    """What every counter page's script needs: the idle-lock delay (C20)."""
    return {"idle_seconds": settings.JUKI_IDLE_LOCK_SECONDS}
