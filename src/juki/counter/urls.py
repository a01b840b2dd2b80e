from django.urls import path

from . import login_views, views

app_name = "counter"

urlpatterns = [
    path("", views.search, name="search"),
    path("login/", login_views.login_view, name="login"),
    path("login/otp/", login_views.login_otp, name="login_otp"),
    path("lock/", login_views.lock_view, name="lock"),
    path("logout/", login_views.logout_view, name="logout"),
    path("password/", login_views.password_change, name="password_change"),
    path("ping/", views.ping, name="ping"),
    path("persons/<id:person_id>/", views.person, name="person"),
    path("persons/<id:person_id>/my-number/", views.reveal_my_number, name="reveal_my_number"),
    path("households/<id:household_id>/", views.household, name="household"),
    path("towns/", views.town_options, name="town_options"),
    path("katagaki/", views.katagaki_options, name="katagaki_options"),
    path("changes/<slug:slug>/", views.change_form, name="change_form"),
    path("changes/<slug:slug>/commit/", views.change_commit, name="change_commit"),
    path("changes/done/<id:change_id>/", views.change_done, name="change_done"),
    path("changes/receipt/<id:change_id>/", views.receipt, name="receipt"),
    path("pending/", views.pending_list, name="pending_list"),
    path("pending/<id:pending_id>/", views.pending_detail, name="pending_detail"),
    path("pending/<id:pending_id>/approve/", views.pending_approve, name="pending_approve"),
    path("pending/<id:pending_id>/reject/", views.pending_reject, name="pending_reject"),
    path("pending/<id:pending_id>/withdraw/", views.pending_withdraw, name="pending_withdraw"),
    path("help/<slug:topic>/", views.help_page, name="help"),
]
