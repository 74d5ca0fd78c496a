"""Two circles lesson (placeholder replaced below)."""
import streamlit as st

st.title("Two circles lesson")
