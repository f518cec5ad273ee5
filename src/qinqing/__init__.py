"""qinqing (亲清): enterprise-policy direct access and business-environment governance."""

__version__ = "0.1.0"
