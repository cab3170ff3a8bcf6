from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.job_list_view, name="list"),
    path("jobs/<int:pk>/", views.job_detail_view, name="job"),
    path("proposals/<int:pk>/", views.proposal_detail_view, name="proposal"),
    path("contracts/<int:pk>/", views.contract_detail_view, name="contract"),
]
