"""Identity's write operations (HackSoft style: keyword-only functions named <entity>_<action>)."""
