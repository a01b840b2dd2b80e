"""Issue records cannot be changed at the database [300][360]: a voiding is a row of its own."""
from django.db import migrations

from juki.core import append_only


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_issue_records")]
    operations = [append_only.operation("certificates_certificateissue", "certificates_certificaterequest",
                                        "certificates_certificatevoid", "certificates_certificatesubject")]
