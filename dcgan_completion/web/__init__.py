"""dcgan-web: a local page for completing the faces in photos (server.py; the page is
page.html). Needs Flask (``pip install -e ".[web]"``); nothing else in the package does."""
