app_name = "microtasks"
urlpatterns: list = []
