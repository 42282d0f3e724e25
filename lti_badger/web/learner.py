"""Blueprint: learner pages and endpoints."""

from flask import Blueprint

bp = Blueprint("learner", __name__)
