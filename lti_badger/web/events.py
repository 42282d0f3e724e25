"""Blueprint: events pages and endpoints."""

from flask import Blueprint

bp = Blueprint("events", __name__)
