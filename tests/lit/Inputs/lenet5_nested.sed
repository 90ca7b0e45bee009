# The names tests/lit/Inputs/lenet5_nested.nn gives its values -> models/lenet5.nn's.
s/\bs2\.conv\b/c1/g
s/\bs2\.sigmoid\b/c1.sigmoid/g
s/\bs4\.conv\b/c3/g
s/\bs4\.sigmoid\b/c3.sigmoid/g
s/\bf6\.dense\b/f5/g
s/\bf6\.flatten\b/f5.flatten/g
s/\bf6\.sigmoid\.2\b/F6SIG/g
s/\bf6\.sigmoid\b/f5.sigmoid/g
s/F6SIG/f6.sigmoid/g
s/^model = lenet5_nested$/model = lenet5/
