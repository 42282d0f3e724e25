"""Blueprint: admin pages and endpoints."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
