from rest_framework import serializers


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown this once: send it as `Authorization: Token KEY`.")
    expiry = serializers.DateTimeField(help_text="When the token stops working, whatever its use.")


class TokenRevokeQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: revoke every token of the user, not only the one sent.",
    )
