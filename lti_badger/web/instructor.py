"""Blueprint: instructor pages and endpoints."""

from flask import Blueprint

bp = Blueprint("instructor", __name__)
