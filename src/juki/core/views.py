from django.http import JsonResponse
from django.shortcuts import render


def home(request):
    return render(request, "core/home.html")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    # The path is not echoed back: URLs may have been typed with personal data in them.
    if _wants_json(request):
        return JsonResponse({"type": "urn:juki:error:not_found", "status": 404, "code": "not_found",
                             "detail": "該当する記録がありません。"}, status=404, content_type="application/problem+json")
    return render(request, "core/error.html", {"title": "ページが見つかりません", "status": 404}, status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"type": "urn:juki:error:internal_error", "status": 500, "code": "internal_error",
                             "detail": "システムエラーが発生しました。処理は行われていません。"},
                            status=500, content_type="application/problem+json")
    return render(request, "core/error.html", {"title": "システムエラー", "status": 500}, status=500)
