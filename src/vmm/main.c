/* placeholder until the VMM is written */
int main(void)
{
    return 0;
}
