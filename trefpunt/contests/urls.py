app_name = "contests"
urlpatterns: list = []
