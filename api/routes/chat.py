"""OpenAI-compatible chat endpoints (being written)."""

from fastapi import APIRouter

router = APIRouter()
