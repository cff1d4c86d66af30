/* placeholder until the command helper writes the entry point */
int main(void)
{
    return 0;
}
