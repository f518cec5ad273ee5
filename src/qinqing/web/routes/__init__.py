"""One router module per resource; qinqing.web.app.ROUTERS lists them."""
