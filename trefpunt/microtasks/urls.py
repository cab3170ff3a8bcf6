"""Microtask pages (language-prefixed, under /<lang>/microtasks/)."""

from django.urls import path

from . import views

app_name = "microtasks"
urlpatterns = [
    # workers
    path("", views.batch_list_view, name="batch_list"),
    path("batches/<int:pk>/", views.batch_detail_view, name="batch_detail"),
    path("batches/<int:pk>/work/", views.work_view, name="work"),
    path("batches/<int:pk>/work/page/", views.page_answer_view, name="page_answer"),
    path("batches/<int:pk>/test/", views.qualification_view, name="qualification"),
    path("leases/<int:pk>/answer/", views.lease_answer_view, name="lease_answer"),
    path("leases/<int:pk>/skip/", views.lease_skip_view, name="lease_skip"),
    path("answers/", views.answer_history_view, name="answer_history"),
    path("answers/<int:pk>/appeal/", views.answer_appeal_view, name="answer_appeal"),
    # clients
    path("manage/", views.manage_list_view, name="manage_list"),
    path("manage/new/", views.batch_create_view, name="batch_create"),
    path("manage/<int:pk>/", views.manage_view, name="manage"),
    path("manage/<int:pk>/edit/", views.batch_edit_view, name="batch_edit"),
    path("manage/<int:pk>/builder/", views.builder_view, name="builder"),
    path("manage/<int:pk>/upload/", views.items_upload_view, name="items_upload"),
    path("manage/<int:pk>/clear/", views.items_clear_view, name="items_clear"),
    path("manage/<int:pk>/publish/", views.publish_view, name="publish"),
    path("manage/<int:pk>/pause/", views.batch_pause_view, name="pause"),
    path("manage/<int:pk>/resume/", views.batch_resume_view, name="resume"),
    path("manage/<int:pk>/close/", views.batch_close_view, name="close"),
    path("manage/<int:pk>/reward/", views.batch_reward_view, name="reward"),
    path("manage/<int:pk>/review/", views.review_view, name="review"),
    path("manage/<int:pk>/review/bulk/", views.review_bulk_view, name="review_bulk"),
    path("manage/<int:pk>/items/", views.items_view, name="items"),
    path("manage/<int:pk>/results/", views.results_view, name="results"),
    path("manage/<int:pk>/workers/", views.workers_view, name="workers"),
    path("manage/<int:pk>/workers/exclude/", views.worker_exclude_view, name="worker_exclude"),
    path("manage/<int:pk>/export.<str:fmt>", views.export_view, name="export"),
    path("manage/answers/<int:pk>/review/", views.answer_review_view, name="answer_review"),
    path("manage/answers/<int:pk>/appeal/", views.appeal_decide_view, name="appeal_decide"),
    path("staff/appeals/", views.staff_appeals_view, name="staff_appeals"),
]
