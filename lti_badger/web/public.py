"""Blueprint: public pages and endpoints."""

from flask import Blueprint

bp = Blueprint("public", __name__)
