"""Form declarations (Flask-WTF): field names are part of the public interface."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=320)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(validators=[DataRequired(), Length(max=40)])
